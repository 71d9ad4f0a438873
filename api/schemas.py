"""Request and response shapes; the OpenAPI spec is generated from these."""

import unicodedata
from datetime import UTC, datetime, timedelta

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from . import identity, scoring

# Earliest and latest instants an interaction may have (a day of clock skew is tolerated).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)


class Text(fields.String):
    """A string that any database can store: valid Unicode, no NUL, bounded length; with
    `blank=False`, not empty or only white space."""

    def __init__(self, *, max_length: int, min_length: int = 0, blank: bool = True, **kwargs):
        super().__init__(validate=validate.Length(min=min_length or None, max=max_length), **kwargs)
        self.blank = blank

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not self.blank and not text.strip():
            raise ValidationError("Must not be empty.")
        if "\x00" in text:
            raise ValidationError("Must not contain NUL characters.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValidationError("Must be valid Unicode text.") from exc
        return text


# Unicode's White_Space characters (str.strip() alone would also drop U+001C to U+001F).
WHITESPACE = (
    "\t\n\v\f\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)


class Name(Text):
    """A name (a contact's, a device's): surrounding whitespace dropped, something must remain."""

    def __init__(self, *, max_length: int = 300, **kwargs):
        super().__init__(max_length=max_length, **kwargs)
        self.validators.insert(0, validate.Length(min=1, error="Must not be empty or blank."))
        self.metadata.setdefault("pattern", r"\S")  # in the spec: not blank

    def _deserialize(self, value, attr, data, **kwargs):
        # Composed (NFC): "José" typed on one system and pasted from another is one name.
        name = super()._deserialize(value, attr, data, **kwargs).strip(WHITESPACE)
        return unicodedata.normalize("NFC", name)


class Ref(Text):
    """An identifier of the message an interaction logs: a blank one names none, so it is null
    (else two logs with "" would read as one message logged twice)."""

    def deserialize(self, value, attr=None, data=None, **kwargs):
        text = super().deserialize(value, attr, data, **kwargs)  # validated as given
        return None if isinstance(text, str) and not text.strip(WHITESPACE) else text


class Instant(fields.AwareDateTime):
    """An ISO 8601 instant, UTC when no offset is given, within the ledger's sane range."""

    def __init__(self, **kwargs):
        super().__init__(default_timezone=UTC, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        try:
            when = parsed.astimezone(UTC)
        except OverflowError as exc:  # 0001-01-01T00:00+01:00 or 9999-12-31T23:00-02:00
            early = parsed.year < EARLIEST.year  # beyond datetime's range, at either end
            raise ValidationError(
                "Must not be before 1970." if early else "Must not be in the future."
            ) from exc
        if when < EARLIEST:
            raise ValidationError("Must not be before 1970.")
        if when > datetime.now(UTC) + FUTURE_TOLERANCE:
            raise ValidationError("Must not be in the future.")
        return when


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class IdentitySchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(identity.KINDS))
    value = Text(required=True, min_length=1, max_length=500)

    @validates_schema
    def _canonical(self, data, **kwargs):
        try:
            identity.canonical(data["kind"], data["value"])
        except identity.IdentityError as exc:
            raise ValidationError(str(exc), field_name="value") from exc

    @post_load
    def _normalise(self, data, **kwargs):
        return {"kind": data["kind"], "value": identity.canonical(data["kind"], data["value"])}


class ContactInSchema(StrictSchema):
    name = Name(required=True)
    identities = fields.List(
        fields.Nested(IdentitySchema),
        load_default=list,
        validate=validate.Length(max=20),
        metadata={
            "description": "May be empty for POST /contacts (someone known offline, found by "
            "name or id; add identities later); an inline contact of a log needs at least one."
        },
    )
    notes = Text(max_length=10000, load_default="")


class ContactPatchSchema(StrictSchema):
    name = Name()
    identities = fields.List(fields.Nested(IdentitySchema), validate=validate.Length(max=20))
    notes = Text(max_length=10000)


class ContactIdentitiesSchema(StrictSchema):
    identities = fields.List(
        fields.Nested(IdentitySchema), required=True, validate=validate.Length(min=1, max=20)
    )


class ContactMergeSchema(StrictSchema):
    # contacts.id is INTEGER (32-bit on PostgreSQL): a larger id would be a database error.
    contact_id = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "The contact to merge into this one (it is deleted)."},
    )


class FavorSchema(StrictSchema):
    direction = fields.String(required=True, validate=validate.OneOf(scoring.DIRECTIONS))
    value = fields.Integer(load_default=1, validate=validate.Range(min=1, max=5), strict=True)


class _InteractionFields(StrictSchema):
    # contacts.id is INTEGER (32-bit on PostgreSQL): a larger id would be a database error.
    contact_id = fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    kind = fields.String(validate=validate.OneOf(scoring.KINDS))
    occurred_at = Instant()
    initiated_by = fields.String(validate=validate.OneOf(scoring.INITIATORS))
    closeness = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=5))
    favor = fields.Nested(FavorSchema, allow_none=True)
    note = Text(max_length=5000)
    external_ref = Ref(
        allow_none=True,
        max_length=300,
        metadata={"description": "The message logged (its Message-ID); blank is null."},
    )


class InteractionInSchema(_InteractionFields):
    kind = fields.String(required=True, validate=validate.OneOf(scoring.KINDS))
    contact = fields.Nested(ContactInSchema)

    @validates_schema
    def _one_contact(self, data, **kwargs):
        if ("contact_id" in data) == ("contact" in data):
            raise ValidationError("Give exactly one of contact_id or contact.", "contact_id")


class InteractionPatchSchema(_InteractionFields):
    pass


class LookupArgsSchema(StrictSchema):
    linkedin = Text(max_length=2000)
    email = Text(max_length=500)

    @validates_schema
    def _one_key(self, data, **kwargs):
        if ("linkedin" in data) == ("email" in data):
            raise ValidationError("Give exactly one of linkedin or email.", "linkedin")


class ContactListArgsSchema(StrictSchema):
    sort = fields.String(load_default="score", validate=validate.OneOf(("score", "name", "recent")))
    q = Text(max_length=200)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class InteractionPageArgsSchema(StrictSchema):
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=500))
    before = fields.UUID(
        metadata={"description": "`next` of the previous page: the interactions after it"}
    )


class ChangesArgsSchema(StrictSchema):
    since = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**62))
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=1000))


# Shared by the API and the CLI: a user the CLI creates can sign in, a name it gives a device
# is one the API would take.
def username_field(**kwargs) -> Text:
    return Text(max_length=80, blank=False, **kwargs)


def password_field(**kwargs) -> Text:
    return Text(max_length=200, blank=False, **kwargs)


def device_name_field(**kwargs) -> Text:
    return Name(max_length=120, **kwargs)


class PairSchema(StrictSchema):
    code = Text(max_length=64, blank=False)
    username = username_field()
    password = password_field(load_only=True)
    device_name = device_name_field(load_default="Browser")

    @validates_schema
    def _one_way(self, data, **kwargs):
        if "code" not in data and not ("username" in data and "password" in data):
            raise ValidationError("Give a pairing code, or a username and password.", "code")


def weight(low: float, high: float) -> fields.Float:
    """A weight leaves its part out (0) or counts (`low` to `high`): a positive weight far below
    `low` (1e-310 is a subnormal float) only loses precision in the sums, and a tiny kind weight
    counts for nothing."""

    def check(value: float) -> None:
        if value != 0 and not low <= value <= high:
            raise ValidationError(f"Must be 0, or from {low} to {high}.")

    return fields.Float(validate=check, metadata={"minimum": 0, "maximum": high})


class SettingsSchema(StrictSchema):
    weights = fields.Dict(
        keys=fields.String(validate=validate.OneOf(scoring.COMPONENTS)),
        values=weight(0.001, 100),
    )
    frequency_half_life_days = fields.Float(validate=validate.Range(min=1, max=3650))
    recency_half_life_days = fields.Float(validate=validate.Range(min=1, max=3650))
    emotional_half_life_days = fields.Float(validate=validate.Range(min=1, max=3650))
    reciprocity_half_life_days = fields.Float(validate=validate.Range(min=1, max=3650))
    kind_weights = fields.Dict(
        keys=fields.String(validate=validate.OneOf(scoring.KINDS)),
        values=weight(0.001, 10),
    )
    kind_closeness = fields.Dict(
        keys=fields.String(validate=validate.OneOf(scoring.KINDS)),
        # strict, as an interaction's closeness: 3.7 is refused, not taken as 3
        values=fields.Integer(strict=True, validate=validate.Range(min=1, max=5)),
    )


# ---- responses -------------------------------------------------------------------------------
# Validators on these only document the answer (enums in the spec); dumping does not run them.


def _one_of(choices, **kwargs) -> fields.Field:
    field = fields.Integer if all(isinstance(c, int) for c in choices) else fields.String
    return field(validate=validate.OneOf(choices), **kwargs)


class ErrorSchema(Schema):
    """Every error: a stable code, the HTTP status, a sentence, and per-field messages."""

    code = fields.String(required=True)
    status = fields.Integer(required=True)
    message = fields.String(required=True)
    errors = fields.Dict()


class IdentityOutSchema(Schema):
    kind = _one_of(identity.KINDS, required=True)
    value = fields.String(required=True)


class LastInteractionSchema(Schema):
    id = fields.UUID(allow_none=True)
    kind = _one_of(scoring.KINDS, required=True)
    occurred_at = fields.DateTime(required=True)
    days_ago = fields.Integer(required=True)
    note = fields.String(required=True)


class ReciprocitySchema(Schema):
    given = fields.Integer(required=True)
    received = fields.Integer(required=True)
    given_value = fields.Integer(required=True)
    received_value = fields.Integer(required=True)
    balance = fields.Integer(required=True)


class ComponentsSchema(Schema):
    frequency = fields.Float(required=True)
    recency = fields.Float(required=True)
    emotional = fields.Float(required=True)
    reciprocity = fields.Float(required=True)
    duration = fields.Float(required=True)


class TieSchema(Schema):
    score = fields.Float(required=True)
    band = _one_of(("strong", "medium", "weak", "dormant"), required=True)
    layer = _one_of(scoring.LAYERS, required=True)
    rank = fields.Integer(required=True)
    components = fields.Nested(ComponentsSchema, required=True)
    last_interaction = fields.Nested(LastInteractionSchema, allow_none=True, required=True)
    reciprocity = fields.Nested(ReciprocitySchema, required=True)
    interaction_count = fields.Integer(required=True)
    first_interaction_at = fields.DateTime(allow_none=True, required=True)
    cadence_days = fields.Float(allow_none=True, required=True)
    trend_30d = fields.Float(allow_none=True, required=True)
    computed_at = fields.DateTime(required=True)


class ContactOutSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    identities = fields.List(fields.Nested(IdentityOutSchema), required=True)
    notes = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    tie = fields.Nested(TieSchema, allow_none=True)


class FavorOutSchema(Schema):
    direction = _one_of(scoring.DIRECTIONS, required=True)
    value = fields.Integer(required=True)


class InteractionOutSchema(Schema):
    id = fields.UUID(required=True)
    contact_id = fields.Integer(required=True)
    kind = _one_of(scoring.KINDS, required=True)
    occurred_at = fields.DateTime(required=True)
    initiated_by = _one_of(scoring.INITIATORS, required=True)
    closeness = fields.Integer(allow_none=True, required=True)
    favor = fields.Nested(FavorOutSchema, allow_none=True, required=True)
    note = fields.String(required=True)
    external_ref = fields.String(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    deleted_at = fields.DateTime(allow_none=True, required=True)


class InteractionResultSchema(Schema):
    interaction = fields.Nested(InteractionOutSchema, required=True)
    contact = fields.Nested(ContactOutSchema, required=True)
    tie = fields.Nested(TieSchema, required=True)


class LookupResultSchema(Schema):
    contact = fields.Nested(ContactOutSchema, allow_none=True, required=True)
    tie = fields.Nested(TieSchema, allow_none=True, required=True)
    seq = fields.Integer(
        allow_none=True,
        metadata={
            "description": "With a contact: the changes feed's seq this answer is as of (the "
            "tie reflects every change up to it, and the settings in force then)"
        },
    )


class ContactPageSchema(Schema):
    contacts = fields.List(fields.Nested(ContactOutSchema), required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total = fields.Integer(required=True)


class InteractionListSchema(Schema):
    interactions = fields.List(fields.Nested(InteractionOutSchema), required=True)
    next = fields.UUID(
        allow_none=True,
        required=True,
        metadata={"description": "`before` for the next page; null on the last page"},
    )


class ChangeSchema(Schema):
    seq = fields.Integer(required=True)
    entity = _one_of(("contact", "identity", "interaction", "settings"), required=True)
    op = _one_of(("upsert", "delete"), required=True)
    id = fields.String(required=True)
    at = fields.DateTime(required=True)
    device_id = fields.Integer(allow_none=True, required=True)
    data = fields.Dict(allow_none=True, required=True)


class ChangesSchema(Schema):
    changes = fields.List(fields.Nested(ChangeSchema), required=True)
    cursor = fields.Integer(required=True)
    has_more = fields.Boolean(required=True)


class DeviceOutSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    last_seen_at = fields.DateTime(allow_none=True, required=True)
    current = fields.Boolean(required=True)


class DeviceListSchema(Schema):
    devices = fields.List(fields.Nested(DeviceOutSchema), required=True)


class PairResultSchema(Schema):
    token = fields.String(required=True)
    device = fields.Nested(DeviceOutSchema, required=True)


class HealthSchema(Schema):
    status = fields.String(required=True)
    version = fields.String(required=True)
    database = fields.String(required=True)


class SettingsOutSchema(Schema):
    weights = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    frequency_half_life_days = fields.Float(required=True)
    recency_half_life_days = fields.Float(required=True)
    emotional_half_life_days = fields.Float(required=True)
    reciprocity_half_life_days = fields.Float(required=True)
    kind_weights = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    kind_closeness = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
