-- Display names of event types and their properties in both languages (on SQLite):
-- `{"event": {"zh", "en"}, "properties": {"series": {"zh": "系列", "en": "Series"}}}`, so
-- segments, journeys and rules read "浏览商品（系列 等于 A）" rather than raw names.
ALTER TABLE cdp_event_types ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
