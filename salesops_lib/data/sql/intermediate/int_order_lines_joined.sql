-- One row per order line, with its rep's manager and its product's family. A booking belongs to
-- the region it was booked in (the line's own region: one customer may buy in several regions). Account attributes are deliberately not joined
-- here: this is the widest, hottest path (tens of millions of rows), every join costs on every
-- query, and DuckDB does not drop unused LEFT JOINs; join dim_accounts where a query needs them.
with order_lines as (
    select * from stg_erp__order_lines
),

reps as (
    select * from stg_crm__reps
),

products as (
    select * from stg_erp__products
),

joined as (
    select
        order_lines.order_id,
        order_lines.line_number,
        order_lines.order_date,
        cast(date_trunc('month', order_lines.order_date) as date) as order_month,
        cast(date_trunc('week', order_lines.order_date) as date) as order_week,
        order_lines.region_id,
        order_lines.rep_id,
        reps.manager_id,
        order_lines.account_id,
        order_lines.product_id,
        products.family as product_family,
        order_lines.quantity,
        order_lines.unit_price,
        order_lines.discount,
        order_lines.amount,
        order_lines.opportunity_id
    from order_lines
    left join reps on order_lines.rep_id = reps.rep_id
    left join products on order_lines.product_id = products.product_id
)

select * from joined
