-- One row per rep x month in the quota plan, months after the as-of date included
-- (fct_quota_attainment stops at the as-of month; a period's attainment is measured against
-- the plan's quota for the whole period).
with quotas as (select * from stg_plan__quotas),
reps as (select * from stg_crm__reps),
final as (
    select
        quotas.rep_id,
        reps.rep_name,
        reps.region_id,
        reps.manager_id,
        quotas.month,
        quotas.quota_amount
    from quotas
    inner join reps on quotas.rep_id = reps.rep_id
)
select * from final
