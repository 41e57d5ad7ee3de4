-- One row per opportunity, in the state it had on the snapshot's as-of date.
with source as (
    select * from raw_opportunities
),

cleaned as (
    select
        nullif(trim(opportunity_id), '') as opportunity_id,
        nullif(trim(opportunity_name), '') as opportunity_name,
        nullif(trim(account_id), '') as account_id,
        nullif(trim(owner_rep_id), '') as owner_rep_id,
        nullif(trim(product_id), '') as product_id,
        cast(created_date as date) as created_date,
        nullif(trim(stage), '') as stage,
        cast(amount as decimal(18, 6)) as amount,
        cast(close_date as date) as close_date,
        nullif(trim(forecast_category), '') as forecast_category,
        cast(push_count as integer) as push_count
    from source
)

select * from cleaned
