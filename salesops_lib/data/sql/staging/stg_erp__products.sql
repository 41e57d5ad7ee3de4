-- One row per product in the catalogue.
with source as (
    select * from raw_products
),

cleaned as (
    select
        nullif(trim(product_id), '') as product_id,
        nullif(trim(product_name), '') as product_name,
        nullif(trim(family), '') as family,
        cast(list_price as decimal(18, 2)) as list_price
    from source
)

select * from cleaned
