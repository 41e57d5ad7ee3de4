-- One row per customer account.
with source as (
    select * from raw_accounts
),

cleaned as (
    select
        nullif(trim(account_id), '') as account_id,
        nullif(trim(account_name), '') as account_name,
        nullif(trim(industry), '') as industry,
        nullif(trim(size_band), '') as size_band,
        nullif(trim(region_id), '') as region_id,
        nullif(trim(owner_rep_id), '') as owner_rep_id,
        cast(created_date as date) as created_date
    from source
)

select * from cleaned
