-- One row per region and calendar month (month = first day of the month).
with source as (
    select * from raw_region_targets
),

cleaned as (
    select
        nullif(trim(region_id), '') as region_id,
        cast(month as date) as month,
        cast(target_amount as decimal(18, 2)) as target_amount
    from source
)

select * from cleaned
