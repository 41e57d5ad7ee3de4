-- One row per sales region.
with regions as (
    select * from stg_crm__regions
),

final as (
    select
        region_id,
        region_name
    from regions
)

select * from final
