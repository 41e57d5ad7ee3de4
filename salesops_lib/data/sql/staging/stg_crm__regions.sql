-- One row per sales region. Text is trimmed and blank text becomes NULL (caught by not_null).
with source as (
    select * from raw_regions
),

cleaned as (
    select
        nullif(trim(region_id), '') as region_id,
        nullif(trim(region_name), '') as region_name
    from source
)

select * from cleaned
