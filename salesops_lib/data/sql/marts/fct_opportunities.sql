-- One row per opportunity as of the snapshot date, with its stage position, current-stage
-- entry date, days in that stage (open deals) and age.
with opportunities as (
    select * from stg_crm__opportunities
),

reps as (
    select * from stg_crm__reps
),

products as (
    select * from stg_erp__products
),

stages as (
    select * from ref_stages
),

current_stages as (
    select * from int_stage_changes_sequenced
    where is_current
),

meta as (
    select * from snapshot_meta
),

joined as (
    select
        opportunities.*,
        reps.region_id,
        products.family as product_family,
        stages.stage_order,
        coalesce(stages.is_closed, false) as is_closed,
        coalesce(stages.is_won, false) as is_won,
        current_stages.entered_date as current_stage_entered_date,
        current_stages.stage as history_stage,
        meta.as_of
    from opportunities
    cross join meta
    left join reps on opportunities.owner_rep_id = reps.rep_id
    left join products on opportunities.product_id = products.product_id
    left join stages on opportunities.stage = stages.stage
    left join current_stages on opportunities.opportunity_id = current_stages.opportunity_id
),

final as (
    select
        opportunity_id,
        opportunity_name,
        account_id,
        owner_rep_id,
        region_id,
        product_id,
        product_family,
        created_date,
        stage,
        stage_order,
        is_closed,
        is_won,
        amount,
        close_date,
        forecast_category,
        push_count,
        current_stage_entered_date,
        case when not is_closed then as_of - current_stage_entered_date end
            as days_in_current_stage,
        case when is_closed then close_date - created_date else as_of - created_date end
            as age_days,
        history_stage
    from joined
)

select * from final
