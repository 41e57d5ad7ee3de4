-- One row per rep and month that has a quota, up to and including the as-of month, with the
-- rep's region and manager.
with quotas as (
    select * from stg_plan__quotas
),

reps as (
    select * from stg_crm__reps
),

meta as (
    select * from snapshot_meta
),

spine as (
    select
        quotas.rep_id,
        quotas.month,
        quotas.quota_amount,
        cast(last_day(quotas.month) <= meta.as_of as boolean) as is_complete_month
    from quotas
    cross join meta
    where quotas.month <= cast(date_trunc('month', meta.as_of) as date)
),

with_rep as (
    select
        spine.rep_id,
        reps.rep_name,
        reps.region_id,
        reps.manager_id,
        spine.month,
        spine.quota_amount,
        spine.is_complete_month
    from spine
    left join reps on spine.rep_id = reps.rep_id
)

select * from with_rep
