-- One row per region x rep x product family x month that has bookings.
with order_lines as (
    select * from int_order_lines_joined
),

monthly as (
    select
        region_id,
        rep_id,
        product_family,
        order_month,
        cast(sum(amount) as decimal(18, 2)) as bookings_amount,
        count(*) as order_lines,
        count(distinct order_id) as orders
    from order_lines
    group by region_id, rep_id, product_family, order_month
)

select * from monthly
