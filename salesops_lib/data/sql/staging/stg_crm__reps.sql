-- One row per sales rep or first-line manager.
with source as (
    select * from raw_reps
),

cleaned as (
    select
        nullif(trim(rep_id), '') as rep_id,
        nullif(trim(rep_name), '') as rep_name,
        lower(nullif(trim(role), '')) as role,
        nullif(trim(region_id), '') as region_id,
        nullif(trim(manager_id), '') as manager_id,
        cast(hire_date as date) as hire_date
    from source
)

select * from cleaned
