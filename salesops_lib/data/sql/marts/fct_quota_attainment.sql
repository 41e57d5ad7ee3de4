-- One row per rep x month that has a quota, up to and including the as-of month: quota,
-- bookings and attainment (NULL when the quota is zero).
with rep_months as (
    select * from int_rep_months_spined
),

order_lines as (
    select * from int_order_lines_joined
),

bookings_by_rep_month as (
    select
        rep_id,
        order_month,
        sum(amount) as bookings_amount
    from order_lines
    group by rep_id, order_month
),

final as (
    select
        rep_months.rep_id,
        rep_months.rep_name,
        rep_months.region_id,
        rep_months.manager_id,
        rep_months.month,
        rep_months.quota_amount,
        cast(coalesce(bookings_by_rep_month.bookings_amount, 0) as decimal(18, 6))
            as bookings_amount,
        case
            when rep_months.quota_amount > 0
                then cast(coalesce(bookings_by_rep_month.bookings_amount, 0) as double)
                / cast(rep_months.quota_amount as double)
        end as attainment,
        rep_months.is_complete_month
    from rep_months
    left join bookings_by_rep_month
        on rep_months.rep_id = bookings_by_rep_month.rep_id
        and rep_months.month = bookings_by_rep_month.order_month
)

select * from final
