// Names for the API's types, all taken from the generated `schema.d.ts` (never written by
// hand): regenerate with `npm run gen:api` after `make openapi`. Record values are free JSON in
// the document; the shapes of the structured ones are at the end.
import type { components } from './schema';

type Schemas = components['schemas'];

export type ObjectDef = Schemas['ObjectDef'];
export type FieldDef = Schemas['FieldDef'];
export type FieldType = Schemas['FieldType'];
export type FieldConfig = Schemas['FieldConfig'];
export type Label = Schemas['Label'];
export type LayoutSection = Schemas['LayoutSection'];
export type SelectOption = Schemas['SelectOption'];
export type NewObject = Schemas['NewObject'];
export type FieldPatch = Schemas['FieldPatch'];
export type RecordBody = Schemas['RecordBody'];
export type RecordList = Schemas['RecordList'];
export type ListRequest = Schemas['ListRequest'];
export type HistoryEntry = Schemas['HistoryEntry'];
export type RelatedList = Schemas['RelatedList'];
export type SearchHit = Schemas['SearchHit'];
export type MeResponse = Schemas['MeResponse'];
/** A user as the user list shows them (emails only for administrators). */
export type User = Schemas['ListedUser'];
export type Role = Schemas['Role'];
export type Team = Schemas['Team'];
export type TeamInput = Schemas['TeamInput'];
export type ApiToken = Schemas['ApiToken'];
export type CreatedToken = Schemas['CreatedToken'];
export type AuditEntry = Schemas['AuditEntry'];
export type SavedView = Schemas['SavedView'];
export type ViewInput = Schemas['ViewInput'];
export type AggregateRequest = Schemas['AggregateRequest'];
export type AggregateResult = Schemas['AggregateResult'];
export type AggregateGroup = Schemas['AggregateGroup'];
/** A node of the national region list (`GET /api/v1/regions`): provinces, cities, districts. */
export type Region = Schemas['Region'];
/** A file as its upload answers. */
export type StoredFile = Schemas['StoredFile'];

/** A currency value as the API writes it. */
export interface Money {
  amount: string;
  currency: string;
}

/** An address field's value as the server writes it (names from the region list); keys are absent when empty. */
export interface AddressValue {
  /** The most specific region: 2 digits a province, 4 a city, 6 a district. */
  code?: string;
  province?: string;
  city?: string;
  district?: string;
  street?: string;
}

/** One file of an attachment field's value (the record write takes the ids). */
export type FileDescriptor = Pick<StoredFile, 'id' | 'name' | 'size' | 'content_type'>;
