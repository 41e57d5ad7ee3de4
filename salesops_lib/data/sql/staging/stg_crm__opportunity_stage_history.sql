-- One row per stage an opportunity entered, up to the as-of date.
with source as (
    select * from raw_opportunity_stage_history
),

cleaned as (
    select
        nullif(trim(opportunity_id), '') as opportunity_id,
        cast(sequence as integer) as sequence,
        nullif(trim(stage), '') as stage,
        cast(entered_date as date) as entered_date
    from source
)

select * from cleaned
