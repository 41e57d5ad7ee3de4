-- One row per stage an opportunity entered, with when it left it (the next entry) and whether it
-- is the opportunity's current stage.
with history as (
    select * from stg_crm__opportunity_stage_history
),

stages as (
    select * from ref_stages
),

sequenced as (
    select
        opportunity_id,
        sequence,
        stage,
        entered_date,
        lead(entered_date) over by_opportunity as exited_date,
        lead(stage) over by_opportunity as next_stage,
        row_number() over by_opportunity_desc = 1 as is_current
    from history
    window
        by_opportunity as (partition by opportunity_id order by sequence),
        by_opportunity_desc as (partition by opportunity_id order by sequence desc)
),

with_stage_order as (
    select
        sequenced.*,
        stages.stage_order,
        stages.is_closed as is_closed_stage
    from sequenced
    left join stages on sequenced.stage = stages.stage
)

select * from with_stage_order
