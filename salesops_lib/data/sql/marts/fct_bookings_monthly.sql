-- One row per region x rep x product family x month that has bookings. The region is the one
-- each line was booked in; the amount keeps the lines' precision (rounding each group to cents
-- would leave a region's total cents away from the source's sum).
with order_lines as (
    select * from int_order_lines_joined
),

monthly as (
    select
        region_id,
        rep_id,
        product_family,
        order_month,
        cast(sum(amount) as decimal(18, 6)) as bookings_amount,
        count(*) as order_lines,
        count(distinct order_id) as orders
    from order_lines
    group by region_id, rep_id, product_family, order_month
)

select * from monthly
