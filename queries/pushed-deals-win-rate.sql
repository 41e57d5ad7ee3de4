-- title: Win rate of deals by times their close date was pushed
-- description: Closed deals that reached the last open stage (Negotiation in the default stage model), by how often their close date was pushed: how many, how much they were worth, and how many were won. Deals pushed again and again win less.
-- parameters: region
-- chart: bar
-- x: pushes
-- y: win_rate
-- money: amount, won, lost
-- percent: win_rate
--
-- One row per push-count bucket (0, 1, 2, 3+).
select
    case when push_count >= 3 then '3+' else cast(push_count as varchar) end as pushes,
    count(*) as deals,
    avg(case when is_won then 1.0 else 0.0 end) as win_rate,
    sum(amount) as amount,
    sum(case when is_won then amount else 0 end) as won,
    sum(case when is_won then 0 else amount end) as lost
from fct_opportunities as o
where is_closed
  and ($region = 'all' or region_id = $region)
  and exists (
      select 1 from fct_stage_changes as s
      where s.opportunity_id = o.opportunity_id
        and s.stage = (select r.stage from ref_stages as r where not r.is_closed
                       order by r.stage_order desc limit 1)
  )
group by pushes
order by pushes
