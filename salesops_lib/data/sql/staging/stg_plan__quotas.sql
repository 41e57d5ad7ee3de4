-- One row per rep and calendar month (month = first day of the month).
with source as (
    select * from raw_quotas
),

cleaned as (
    select
        nullif(trim(rep_id), '') as rep_id,
        cast(month as date) as month,
        cast(quota_amount as decimal(18, 2)) as quota_amount
    from source
)

select * from cleaned
