-- One row per product in the catalogue.
with products as (
    select * from stg_erp__products
),

final as (
    select
        product_id,
        product_name,
        family,
        list_price
    from products
)

select * from final
