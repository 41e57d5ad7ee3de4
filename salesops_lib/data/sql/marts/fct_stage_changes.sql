-- One row per stage an opportunity entered, with when it left, where it went and how long it
-- stayed (to the as-of date for the current stage of an open deal).
with changes as (
    select * from int_stage_changes_sequenced
),

opportunities as (
    select * from stg_crm__opportunities
),

reps as (
    select * from stg_crm__reps
),

meta as (
    select * from snapshot_meta
),

final as (
    select
        changes.opportunity_id,
        reps.region_id,
        opportunities.owner_rep_id,
        changes.sequence,
        changes.stage,
        changes.stage_order,
        changes.entered_date,
        changes.exited_date,
        changes.next_stage,
        case
            when changes.exited_date is not null then changes.exited_date - changes.entered_date
            when not coalesce(changes.is_closed_stage, false) then meta.as_of - changes.entered_date
        end as days_in_stage,
        changes.is_current
    from changes
    cross join meta
    left join opportunities on changes.opportunity_id = opportunities.opportunity_id
    left join reps on opportunities.owner_rep_id = reps.rep_id
)

select * from final
