-- Segment snapshots are pushed through the integration hub now (messages of topic
-- `segment.snapshot` to a webhook endpoint, signed with the endpoint's secret): the workspace's
-- separate snapshot signing secret is retired.
DROP TABLE cdp_signing_secrets;
