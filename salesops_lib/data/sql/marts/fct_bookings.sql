-- One row per order line (a booking), with its week, month, region (where it was booked), rep,
-- manager, family and the won opportunity it books (null for run-rate business).
with order_lines as (
    select * from int_order_lines_joined
),

final as (
    select
        order_id,
        line_number,
        order_date,
        order_month,
        order_week,
        region_id,
        rep_id,
        manager_id,
        account_id,
        product_id,
        product_family,
        quantity,
        unit_price,
        discount,
        amount,
        opportunity_id
    from order_lines
)

select * from final
