-- One row per customer account, with its first and last order and lifetime bookings.
with accounts as (
    select * from stg_crm__accounts
),

order_lines as (
    select * from stg_erp__order_lines
),

bookings_by_account as (
    select
        account_id,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        sum(amount) as lifetime_bookings
    from order_lines
    group by account_id
),

final as (
    select
        accounts.account_id,
        accounts.account_name,
        accounts.industry,
        accounts.size_band,
        accounts.region_id,
        accounts.owner_rep_id,
        accounts.created_date,
        bookings_by_account.first_order_date,
        bookings_by_account.last_order_date,
        cast(coalesce(bookings_by_account.lifetime_bookings, 0) as decimal(18, 6))
            as lifetime_bookings
    from accounts
    left join bookings_by_account on accounts.account_id = bookings_by_account.account_id
)

select * from final
