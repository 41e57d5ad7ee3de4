-- title: Bookings by product family, last 12 months
-- description: Which product families bring the money in, month by month, over the twelve full months before the snapshot.
-- parameters: region, as_of
-- chart: line
-- x: order_month
-- y: bookings
-- color: product_family
-- money: bookings
--
-- One row per product family x month. $region is a region id, or 'all' for the whole company.
select
    order_month,
    product_family,
    sum(amount) as bookings,
    count(distinct account_id) as accounts
from fct_bookings
where ($region = 'all' or region_id = $region)
  and order_month >= date_trunc('month', $as_of) - interval 12 month
  and order_month < date_trunc('month', $as_of)
group by order_month, product_family
order by order_month, product_family
