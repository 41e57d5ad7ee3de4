-- One row per sales rep or first-line manager, with region, manager and tenure as of the
-- snapshot date (whole months since hire).
with reps as (
    select * from stg_crm__reps
),

regions as (
    select * from stg_crm__regions
),

meta as (
    select * from snapshot_meta
),

tenure as (
    select
        reps.rep_id,
        cast(
            (year(meta.as_of) - year(reps.hire_date)) * 12
            + (month(meta.as_of) - month(reps.hire_date))
            - case when day(meta.as_of) < day(reps.hire_date) then 1 else 0 end
            as integer
        ) as tenure_months
    from reps
    cross join meta
),

final as (
    select
        reps.rep_id,
        reps.rep_name,
        reps.role,
        reps.region_id,
        regions.region_name,
        reps.manager_id,
        managers.rep_name as manager_name,
        reps.hire_date,
        tenure.tenure_months
    from reps
    left join regions on reps.region_id = regions.region_id
    left join reps as managers on reps.manager_id = managers.rep_id
    left join tenure on reps.rep_id = tenure.rep_id
)

select * from final
