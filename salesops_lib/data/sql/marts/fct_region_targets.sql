-- One row per region x month that has a target (future months included, for planning):
-- target, bookings and attainment (NULL when the target is zero).
with targets as (
    select * from stg_plan__region_targets
),

order_lines as (
    select * from int_order_lines_joined
),

meta as (
    select * from snapshot_meta
),

bookings_by_region_month as (
    select
        region_id,
        order_month,
        sum(amount) as bookings_amount
    from order_lines
    group by region_id, order_month
),

final as (
    select
        targets.region_id,
        targets.month,
        targets.target_amount,
        cast(coalesce(bookings_by_region_month.bookings_amount, 0) as decimal(18, 6))
            as bookings_amount,
        case
            when targets.target_amount > 0
                then cast(coalesce(bookings_by_region_month.bookings_amount, 0) as double)
                / cast(targets.target_amount as double)
        end as attainment,
        cast(last_day(targets.month) <= meta.as_of as boolean) as is_complete_month
    from targets
    cross join meta
    left join bookings_by_region_month
        on targets.region_id = bookings_by_region_month.region_id
        and targets.month = bookings_by_region_month.order_month
)

select * from final
