-- One row per line of a booked order.
with source as (
    select * from raw_order_lines
),

cleaned as (
    select
        nullif(trim(order_id), '') as order_id,
        cast(line_number as integer) as line_number,
        cast(order_date as date) as order_date,
        nullif(trim(account_id), '') as account_id,
        nullif(trim(rep_id), '') as rep_id,
        nullif(trim(product_id), '') as product_id,
        cast(quantity as integer) as quantity,
        cast(unit_price as decimal(18, 2)) as unit_price,
        cast(discount as double) as discount,
        cast(amount as decimal(18, 6)) as amount,
        nullif(trim(region_id), '') as region_id,
        nullif(trim(opportunity_id), '') as opportunity_id
    from source
)

select * from cleaned
