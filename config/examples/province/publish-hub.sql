-- 省级汇总：为一个枢纽建立逻辑复制发布 · A publication of one hub's rows, for a province
--
-- Run on the county's (or town's) PostgreSQL database, once per hub, as the database's owner:
--
--   psql -v hub_id=town-xinhe -f publish-hub.sql "dbname=chengxin"
--
-- It publishes, from every table hubd keeps, only the rows of that hub_id: the event log, the
-- ledger, the audit log, the chains' heads and the complaints register (with
-- the notices' proposals, 公示). The publication is
-- named hub_<hub_id>. docs/deployment.md ("A province") says how the province subscribes.
-- Not published: hub_schema (each database has its own; the province's tables are created from
-- the county's with pg_dump --schema-only). A test checks that every table with a hub_id column
-- is listed here (PgProvince.ACountysHubsArriveInTheProvinceByLogicalReplicationAndVerify).
\set ON_ERROR_STOP on
\set publication hub_ :hub_id
CREATE PUBLICATION :"publication" FOR TABLE
  event WHERE (hub_id = :'hub_id'),
  household WHERE (hub_id = :'hub_id'),
  event_tally WHERE (hub_id = :'hub_id'),
  status_minute WHERE (hub_id = :'hub_id'),
  chain_head WHERE (hub_id = :'hub_id'),
  audit_record WHERE (hub_id = :'hub_id'),
  complaint WHERE (hub_id = :'hub_id'),
  proposal WHERE (hub_id = :'hub_id'),
  ledger_cursor WHERE (hub_id = :'hub_id'),
  ledger_reason WHERE (hub_id = :'hub_id'),
  ledger_delivery WHERE (hub_id = :'hub_id'),
  ledger_failure WHERE (hub_id = :'hub_id'),
  ledger_parked WHERE (hub_id = :'hub_id'),
  ledger_parked_history WHERE (hub_id = :'hub_id'),
  ledger_plugin_state WHERE (hub_id = :'hub_id'),
  ledger_plugin_action WHERE (hub_id = :'hub_id'),
  ledger_tally WHERE (hub_id = :'hub_id'),
  ledger_delivery_minute WHERE (hub_id = :'hub_id');
