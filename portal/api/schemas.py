"""JSON Schemas (OpenAPI 3.1 dialect) of what the API reads and writes; see serialize.py."""

from __future__ import annotations

from typing import Any

from portal.access.member_rules import KINDS
from portal.api.common import MAX_LIMIT
from portal.auth.forms import PROFESSION_CHOICES
from portal.auth.models import KIND_FAMILY, KIND_PROFESSIONAL
from portal.auth.passwords import MIN_LENGTH
from portal.family.models import ROLES
from portal.family.plan_signers import STATES as SIGNER_STATES

VISIBILITY = {
    "type": "string",
    "enum": ["all", "family", "parents", "no_parents", "me"],
    "description": "Who besides the author may read it: everyone with dossier access, the "
    "family only, the parents only, everyone but the parents (young people of 16+; for a parent "
    "who writes: everyone but the other parents and their partners), the author only. Guests "
    "can only choose all.",
}


def with_property(schema: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    """For a property whose name obj() itself uses (such as "required")."""
    schema["properties"][name] = value
    return schema


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: list[str], closed: bool = False, **props: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "required": required, "properties": props}
    if closed:  # request bodies: unknown fields are a 422
        schema["additionalProperties"] = False
    return schema


def text(max_length: int | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", **extra}
    if max_length:
        schema["maxLength"] = max_length
    return schema


def page_of(item: str) -> dict[str, Any]:
    return obj(
        ["items", "next_cursor"],
        items={"type": "array", "items": ref(item), "maxItems": MAX_LIMIT},
        next_cursor={
            "type": ["string", "null"],
            "description": "Pass as ?cursor= for the next page; null on the last page.",
        },
    )


S = {"type": "string"}
S_NULL = {"type": ["string", "null"]}
INT = {"type": "integer"}
INT_NULL = {"type": ["integer", "null"]}
B = {"type": "boolean"}
DATE = {"type": "string", "format": "date"}
DATE_NULL = {"type": ["string", "null"], "format": "date"}
TIME = {"type": "string", "format": "date-time"}
TIME_NULL = {"type": ["string", "null"], "format": "date-time"}
ROLE = {"type": "string", "enum": list(ROLES)}
MEMBER_KIND = {
    "type": "string",
    "enum": list(KINDS),
    "description": "What the member is: ouder met gezag, ouder zonder gezag (reads the plan "
    "and the agreements), partner/stiefouder, jongere (12+), kind (under 12), netwerk.",
}
IDS = {"type": "array", "items": {"type": "integer"}}
AUTHORITY_FIXED = (
    "Authority is set when someone is added and afterwards changed only by the operator "
    "command (flask portal set-authority); sending a different value is refused (403)."
)
KIND = {"type": "string", "enum": [KIND_FAMILY, KIND_PROFESSIONAL]}
FAMILY_ROLE = {
    "type": "string",
    "description": "The caller's role in the family, as the access policy sees it today.",
    "enum": [
        "parent_with_authority",
        "parent",
        "partner",
        "young_person_under_12",
        "young_person_12_15",
        "young_person_16_17",
        "young_person_adult",
        "network",
    ],
}
GRANT_STATES = ["active", "pending", "not_yet_valid", "expired", "revoked", "denied", "withdrawn"]
LEVEL = {"enum": ["read", "write"]}
VERSION = {
    "type": "integer",
    "minimum": 1,
    "description": "The version you last saw; a stale version is a 409.",
}

PETAL_KIND = {"type": "string", "enum": ["informal", "professional"]}
EVALUATION_KIND = {"type": "string", "enum": ["evaluation", "network_meeting"]}
EVALUATION_FIELDS: dict[str, Any] = {
    "kind": EVALUATION_KIND,
    "title": {"type": "string", "maxLength": 200},
    "held_on": DATE,
    "start_time": {"type": ["string", "null"], "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
    "participants": {"type": "string", "maxLength": 1000},
    "went_well": {"type": "string", "maxLength": 5000},
    "changes": {"type": "string", "maxLength": 5000},
    "next_steps": {"type": "string", "maxLength": 5000},
}

SCHEMAS: dict[str, Any] = {
    "Problem": {
        **obj(
            ["type", "title", "status", "detail"],
            type=S,
            title=S,
            status=INT,
            detail=S,
            errors={
                "type": "array",
                "description": "Validation errors, one per field and message (422).",
                "items": obj(["field", "message"], field=S, message=S),
            },
            totp_required={**B, "description": "Sign in again with totp_code (401)."},
            totp_enrolment_required={
                **B,
                "description": "A professional must enrol TOTP first (403).",
            },
            csrf_required={**B, "description": "Send X-CSRFToken (400)."},
            current_version={**INT, "description": "The stored version (409)."},
            current={"type": "object", "description": "The stored object (409)."},
        ),
        "description": "RFC 9457 problem details; texts are in the caller's language.",
    },
    "User": obj(
        ["id", "email", "display_name", "kind", "locale", "email_verified", "totp_enabled"],
        id=INT,
        email=S,
        display_name=S,
        kind=KIND,
        locale={"type": "string", "enum": ["nl", "en"]},
        email_verified=B,
        totp_enabled=B,
        message_mail={"type": "string", "enum": ["15min", "daily", "off"]},
        send_read_receipts={**B, "description": "Always true for professionals."},
        profession={**S_NULL, "description": "Professionals only."},
        organisation={**S_NULL, "description": "Professionals only."},
        register_number={**S_NULL, "description": "Professionals only."},
    ),
    "Session": obj(
        ["authenticated", "csrf_token"],
        authenticated=B,
        csrf_token={**S, "description": "Send as X-CSRFToken on every write."},
        user=ref("User"),
        totp_enrolment_required={
            **B,
            "description": "A professional signed in with a password must enrol TOTP before "
            "anything but /session, /me and /me/totp.",
        },
    ),
    "SignUp": obj(
        ["email", "password", "display_name"],
        closed=True,
        email=text(254, format="email"),
        password=text(200, minLength=MIN_LENGTH),
        display_name=text(100),
        kind={**KIND, "default": KIND_FAMILY},
        profession={
            "type": "string",
            "enum": [choice.value for choice in PROFESSION_CHOICES],
            "description": "Required for, and only accepted with, kind professional.",
        },
        organisation=text(120, description="Required for kind professional."),
        register_number=text(40, description="BIG or SKJ number, for kind professional."),
    ),
    "SignUpAccepted": obj(
        ["status", "email"], status={"type": "string", "const": "check_your_mail"}, email=S
    ),
    "SignIn": obj(
        ["email", "password"],
        closed=True,
        email=text(254),
        password=text(200),
        totp_code=text(description="The app's 6-digit code or a recovery code."),
    ),
    "TotpConfirm": obj(
        [],
        closed=True,
        code=text(description="Leave out to get a (new) secret; send to confirm it."),
    ),
    "TotpEnrolment": obj(
        ["secret", "otpauth_uri"],
        secret={**S, "description": "Base32; shown once."},
        otpauth_uri={**S, "description": "For the authenticator app's QR code."},
    ),
    "TotpEnabled": obj(
        ["totp_enabled", "recovery_codes"],
        totp_enabled={"type": "boolean", "const": True},
        recovery_codes={"type": "array", "items": S, "description": "Shown once."},
    ),
    "Me": obj(
        ["user", "families", "grants"],
        user=ref("User"),
        families={"type": "array", "items": ref("Family")},
        grants={
            "type": "array",
            "items": {"type": "object"},
            "description": "A professional's grants; ended ones carry no family data",
        },
    ),
    "Family": obj(
        ["id", "name", "created_at", "version"],
        id=INT,
        name=S,
        created_at=TIME,
        version=INT,
        my_role=FAMILY_ROLE,
    ),
    "NewFamily": obj(
        ["name"],
        closed=True,
        name=text(100),
        my_name=text(100, description="What you are called in this family, e.g. Mama."),
        household=text(100),
    ),
    "Member": obj(
        [
            "id",
            "family_id",
            "role",
            "kind",
            "display_name",
            "age",
            "has_authority",
            "has_login",
            "invitation_pending",
            "version",
        ],
        id=INT,
        family_id=INT,
        role=ROLE,
        kind=MEMBER_KIND,
        display_name=S,
        age=INT_NULL,
        has_authority={
            **B,
            "description": "A parent with authority (gezag) over at least one child.",
        },
        authority_over={
            **IDS,
            "description": "Parents only: the member ids of the children they hold authority over.",
        },
        authority_holders={
            **IDS,
            "description": "Children only: the member ids of the parents with authority over them "
            "(at most two).",
        },
        household=S_NULL,
        relation=S_NULL,
        address={
            **S_NULL,
            "description": "Only when the policy lets the caller see it: a parent may keep "
            "their address and phone from the other parents (contact_private).",
        },
        phone={**S_NULL, "description": "As address."},
        contact_private={
            **B,
            "description": "Address and phone kept from the other parents. Only for those "
            "who may edit members, and for the person themself.",
        },
        has_login=B,
        invitation_pending=B,
        version=INT,
        birth_date={
            **DATE_NULL,
            "description": "Only for those who may edit members, and for the person themself.",
        },
        email={
            **S_NULL,
            "description": "Only for those who may edit members, and for the person themself.",
        },
        invited_at={
            **TIME_NULL,
            "description": "Only for those who may edit members, and for the person themself.",
        },
        joined_at={
            **TIME_NULL,
            "description": "Only for those who may edit members, and for the person themself.",
        },
    ),
    "NewMember": obj(
        ["role", "display_name"],
        closed=True,
        role=ROLE,
        display_name=text(100),
        birth_date={**DATE_NULL, "description": "Required for young people."},
        has_authority={**B, "description": "A parent with authority (gezag)."},
        authority_over={
            **IDS,
            "description": "For a parent with authority: the children they hold it over "
            "(default: every child; only children the caller holds authority over, or nobody "
            "does). At most two holders per child.",
        },
        authority_holders={
            **IDS,
            "description": "For a child: the parents with authority over them, at most two "
            "(default: the first two parents with authority).",
        },
        household={**S_NULL, "maxLength": 100},
        relation={**S_NULL, "maxLength": 100},
        email={**S_NULL, "format": "email", "maxLength": 254},
        invite={**B, "description": "Mail an invitation to log in (adults and 12+)."},
    ),
    "MemberChange": obj(
        ["version"],
        closed=True,
        version=VERSION,
        role=ROLE,
        display_name=text(100),
        birth_date={
            **DATE_NULL,
            "description": "Not of yourself, nor of a young person who joined: for them only "
            "the operator command (flask portal set-birth-date) changes it (403).",
        },
        has_authority={**B, "description": AUTHORITY_FIXED},
        authority_over={**IDS, "description": AUTHORITY_FIXED},
        authority_holders={**IDS, "description": AUTHORITY_FIXED},
        household={**S_NULL, "maxLength": 100},
        relation={**S_NULL, "maxLength": 100},
        email={**S_NULL, "format": "email", "maxLength": 254},
        address={
            **S_NULL,
            "maxLength": 200,
            "description": "Your own only (403 for someone else's).",
        },
        phone={**S_NULL, "maxLength": 40, "description": "Your own only."},
        contact_private={
            **B,
            "description": "Your own only: keep your address and phone from the other parents.",
        },
        invite=B,
    ),
    "MemberRemoval": obj([], closed=True, version=VERSION),
    "AuditEvent": obj(
        ["id", "at", "actor", "basis", "action", "object", "outcome", "count", "text"],
        id=INT,
        at=TIME,
        actor=obj(
            ["user_id", "name", "role"],
            user_id=INT_NULL,
            name=S,
            role=S,
            organisation=S_NULL,
        ),
        basis={**S, "description": "What the decision rested on, e.g. membership:12."},
        action={**S, "description": "e.g. family.view, member.edit, audit.view."},
        object=obj(["type", "id"], type=S, id=S_NULL),
        outcome={"type": "string", "enum": ["allowed", "denied"]},
        reason=S_NULL,
        count={
            **INT,
            "minimum": 1,
            "description": "How many accesses the row stands for: 1, or more for the row that "
            "counts how often one socket was refused the same again within a minute; `at` is "
            "then the time of the last of them.",
        },
        text={
            **obj(["action", "role", "outcome"], action=S, role=S, outcome=S),
            "description": "The row in plain words, in the caller's language, as on the page.",
        },
    ),
    # --- guest access (grants and access requests) ---
    "Grant": obj(
        ["id", "family_id", "state", "parts", "purpose", "expires_at", "version"],
        id=INT,
        family_id=INT,
        state={"type": "string", "enum": GRANT_STATES},
        origin={"type": "string", "enum": ["invitation", "request"]},
        grantee_id=INT_NULL,
        invited_email=S_NULL,
        purpose=S,
        subject_member_id=INT_NULL,
        parts={"type": "object", "additionalProperties": LEVEL},
        valid_from=TIME,
        expires_at=TIME,
        accepted_at=TIME_NULL,
        approved_at=TIME_NULL,
        revoked_at=TIME_NULL,
        renewal_requested_at=TIME_NULL,
        version=INT,
    ),
    "NewGrant": obj(
        ["email", "parts", "purpose"],
        email=S,
        parts={
            "type": "object",
            "additionalProperties": LEVEL,
            "propertyNames": {"enum": ["plan", "dossier", "messages", "modules", "documents"]},
        },
        purpose={"type": "string", "maxLength": 500},
        valid_from=DATE,
        expires_on={**DATE, "description": "Last day of access; default 3 months, at most 12"},
        subject_member_id=INT,
    ),
    "NewAccessRequest": obj(
        ["code", "parts", "purpose"],
        code={"type": "string", "description": "The family's code, e.g. K7MQ-9XPA"},
        parts={"type": "object", "additionalProperties": LEVEL},
        purpose=S,
        expires_on=DATE,
    ),
    "Decision": obj(
        ["version"],
        version=INT,
        parts={
            "type": "object",
            "additionalProperties": LEVEL,
            "description": "approve only: narrow the parts or levels",
        },
        expires_on={**DATE, "description": "approve: an earlier end; renew: the new last day"},
    ),
    # --- messaging ---
    "Conversation": obj(
        ["id", "family_id", "topic", "last_seq", "unread", "participants"],
        id=INT,
        family_id=INT,
        topic=S,
        created_at=TIME,
        active_at={
            **TIME,
            "description": "When the newest message came in (its start, before the first); "
            "the list is ordered by it, the most recent first.",
        },
        last_seq={**INT, "description": "The newest message's sequence number (0: none yet)."},
        unread=INT,
        participants={
            "type": "array",
            "items": obj(["user_id", "name"], user_id=INT, name=S, last_read_seq=INT_NULL),
        },
    ),
    "ConversationChange": obj(
        ["topic"], closed=True, topic={"type": "string", "minLength": 1, "maxLength": 120}
    ),
    "NewConversation": obj(
        ["topic", "participants"],
        closed=True,
        topic={"type": "string", "maxLength": 120},
        participants={
            "type": "array",
            "items": INT,
            "description": "User ids besides yourself: members, or guests with messages",
        },
    ),
    "Message": obj(
        ["id", "conversation_id", "seq", "author_name", "body", "at", "client_key"],
        id=INT,
        conversation_id=INT,
        family_id=INT,
        seq=INT,
        author_id=INT_NULL,
        author_name=S,
        body={**S, "description": "Plain text; clients insert it as text, never as HTML."},
        at=TIME,
        reply_to_seq=INT_NULL,
        client_key=S,
        edited_at=TIME_NULL,
        deleted={**B, "description": "Deleted by its author: the body is empty"},
        reply_to={
            "type": ["object", "null"],
            "description": "The message this one answers: who wrote it and how it starts",
            "properties": {"seq": INT, "author_name": S, "excerpt": S, "deleted": B},
        },
        attachments={"type": "array", "items": ref("File"), "maxItems": 5},
    ),
    "NewMessage": obj(
        ["client_key", "body"],
        closed=True,
        client_key={
            "type": "string",
            "pattern": "^[A-Za-z0-9_.:-]{8,64}$",
            "description": "Made by the client; resending the same key stores nothing twice",
        },
        body={
            "type": "string",
            "maxLength": 10000,
            "description": "May be empty when attachments are sent",
        },
        reply_to_seq=INT,
        attachments={
            "type": "array",
            "items": INT,
            "maxItems": 5,
            "description": "Ids from POST /files for this conversation",
        },
    ),
    "File": obj(
        ["id", "name", "content_type", "size", "url"],
        id=INT,
        name=S,
        content_type={**S, "description": "Decided from the content, not from the name."},
        size=INT,
        uploaded_by=S,
        at=TIME,
        url={**S, "description": "GET it to download."},
        preview={
            "type": ["object", "null"],
            "description": "A photo's small copy, redrawn by the portal (no metadata); null for "
            "other files and for photos that could not be drawn",
            "required": ["url", "width", "height"],
            "properties": {"url": S, "width": INT, "height": INT},
        },
    ),
    "NewFile": obj(
        ["file"],
        file={
            "type": "string",
            "format": "binary",
            "description": "PDF, JPG, PNG, GIF, WEBP or an Office/OpenDocument file, checked by "
            "content; the name's extension must match",
        },
        conversation_id={**INT, "description": "The conversation it is for; or use purpose"},
        purpose={"type": "string", "enum": ["dossier"], "description": "For a dossier entry"},
    ),
    "DossierEntry": obj(
        ["id", "title", "body", "visibility", "author_name", "version", "attachments"],
        id=INT,
        family_id=INT,
        title=S,
        body={**S, "description": "A small Markdown subset; rendered through the sanitizer."},
        visibility=VISIBILITY,
        author_id=INT_NULL,
        author_name=S,
        author_organisation=S_NULL,
        author_kind={"type": "string", "enum": ["member", "guest"]},
        created_at=TIME,
        updated_at=TIME_NULL,
        deleted=B,
        version=INT,
        attachments={"type": "array", "items": ref("File")},
        revisions={
            "type": "array",
            "description": "GET one entry only: earlier versions, newest first",
            "items": obj(
                ["version", "title", "body", "change"],
                version=INT,
                title=S,
                body=S,
                visibility=VISIBILITY,
                written_at=TIME,
                replaced_at=TIME,
                change={"type": "string", "enum": ["edited", "deleted"]},
            ),
        },
    ),
    "NewDossierEntry": obj(
        ["title", "body"],
        closed=True,
        title={"type": "string", "maxLength": 200},
        body={"type": "string", "maxLength": 20000},
        visibility={
            **VISIBILITY,
            "description": str(VISIBILITY["description"])
            + " Left out: family for a family member, all for a guest.",
        },
        attachments={"type": "array", "items": INT, "maxItems": 5},
    ),
    "DossierEntryChange": obj(
        ["version"],
        closed=True,
        version=INT,
        title={"type": "string", "maxLength": 200},
        body={"type": "string", "maxLength": 20000},
        visibility=VISIBILITY,
        attachments={"type": "array", "items": INT, "maxItems": 5},
    ),
    "PlanChange": obj(
        ["id", "part", "item", "item_id", "change", "by", "at", "fields"],
        id=INT,
        part=S,
        item={**S, "description": "The kind of item (Goal, Agreement, Plan, ...)"},
        item_id=INT,
        change={"type": "string", "enum": ["created", "edited", "removed", "restored"]},
        by=S,
        at=TIME,
        title=S,
        fields={
            "type": "array",
            "items": obj(["field", "before", "after"], field=S, before=S, after=S),
        },
    ),
    "Restored": obj(["restored", "item", "item_id"], restored=INT, item=S, item_id=INT),
    "PlanSigner": obj(
        ["id", "name", "why", "state", "at", "reason", "joined_later"],
        id={
            **INT_NULL,
            "description": "Send as `signer` to mark a young person not taking part; null for "
            "a version stored before signers were kept",
        },
        member_id=INT_NULL,
        user_id={**INT_NULL, "description": "The login that signs; null until they joined"},
        name=S,
        why={"type": "string", "enum": ["parent", "young_person", "guest"]},
        state={
            "type": "string",
            "enum": list(SIGNER_STATES),
            "description": "signed; disagreed (niet akkoord, with a reason); not_taking_part "
            "(a young person marked by a parent with authority, with a reason); waiting; "
            "not_invited / invited (a member without a login yet); left (no longer in the "
            "family). Only signed, not_taking_part and left let the version be agreed.",
        },
        at={**TIME_NULL, "description": "When they signed, disagreed or were marked"},
        reason={"type": ["string", "null"]},
        marked_by={"type": ["string", "null"], "description": "Who marked not_taking_part"},
        joined_later={
            "type": "boolean",
            "description": "Became a signer after the version was proposed",
        },
    ),
    "PlanVersion": with_property(
        obj(
            ["number", "proposed_by", "proposed_at", "open", "signers", "required", "signoffs"],
            number=INT,
            proposed_by=S,
            proposed_at=TIME,
            agreed_at=TIME_NULL,
            superseded_at=TIME_NULL,
            open={
                "type": "boolean",
                "description": "Waiting for signatures; false once agreed or replaced (the plan "
                "changed after it was proposed: propose again)",
            },
            signers={
                "type": "array",
                "description": "Everyone who must sign, fixed when it was proposed (people who "
                "join while it is open are added): parents with authority, young people 12+, "
                "guests who write in the plan",
                "items": ref("PlanSigner"),
            },
            signoffs={
                "type": "array",
                "items": obj(["user_id", "name", "signed_at"], user_id=INT, name=S, signed_at=TIME),
            },
            plan={"type": "object", "description": "Every part of the plan as proposed"},
        ),
        "required",
        {
            "type": "array",
            "description": "The signers' names only (see signers)",
            "items": obj(["user_id", "name", "why"], user_id=INT_NULL, name=S, why=S),
        },
    ),
    "PlanVersions": obj(
        ["status", "items"],
        status=obj(
            ["state"],
            state={
                "type": "string",
                "enum": ["draft", "proposed", "replaced", "agreed", "changed_after_agreement"],
            },
            current=INT_NULL,
            agreed=INT_NULL,
            waiting_for={
                "type": "array",
                "description": "The signers the open version still waits for",
                "items": ref("PlanSigner"),
            },
        ),
        items={"type": "array", "items": ref("PlanVersion")},
    ),
    "NewSignoff": obj(
        ["version"],
        closed=True,
        version=INT,
        answer={
            "type": "string",
            "enum": ["agree", "disagree", "not_taking_part"],
            "default": "agree",
            "description": "agree signs; disagree is niet akkoord (reason required); "
            "not_taking_part marks the young person `signer` (parents with authority; reason "
            "required). Everyone in the family sees the reason.",
        },
        reason={"type": "string", "maxLength": 2000},
        signer={**INT, "description": "A signer's id (for not_taking_part)"},
    ),
    "NewScore": obj(
        ["score"],
        closed=True,
        score={**INT, "minimum": 0, "maximum": 10},
        on={"type": "string", "format": "date", "description": "Default today; not later"},
    ),
    "FoundMessage": {
        "allOf": [ref("Message"), obj(["topic"], topic=S)],
    },
    "NewParticipant": obj(["user_id"], closed=True, user_id=INT),
    "MeChange": obj(
        [],
        closed=True,
        message_mail={"type": "string", "enum": ["15min", "daily", "off"]},
        send_read_receipts=B,
    ),
    "MessageEdit": obj(["body"], closed=True, body={"type": "string", "maxLength": 10000}),
    "ReadMark": obj(["seq"], closed=True, seq=INT),
    "ReadState": obj(
        ["conversation_id", "seq", "unread"], conversation_id=INT, seq=INT, unread=INT
    ),
    # --- the gezinsplan ---
    "Goal": obj(
        ["id", "title", "owner", "phase", "scores", "version"],
        id=INT,
        title=S,
        description=S,
        owner={"type": "string", "enum": ["family", "parent", "young_person"]},
        phase={"type": "string", "enum": ["not_started", "in_progress", "achieved", "adjusted"]},
        scores={"type": "array", "items": obj(["score", "on"], score=INT, on=DATE, by=S)},
        updated_at=TIME_NULL,
        version=INT,
    ),
    "NewGoal": obj(
        ["title"],
        closed=True,
        title={"type": "string", "maxLength": 200},
        description={"type": "string", "maxLength": 5000},
        owner={"type": "string", "enum": ["family", "parent", "young_person"]},
        phase={"type": "string", "enum": ["not_started", "in_progress", "achieved", "adjusted"]},
    ),
    "GoalChange": obj(
        ["version"],
        closed=True,
        version=INT,
        title={"type": "string", "maxLength": 200},
        description={"type": "string", "maxLength": 5000},
        owner={"type": "string", "enum": ["family", "parent", "young_person"]},
        phase={"type": "string", "enum": ["not_started", "in_progress", "achieved", "adjusted"]},
    ),
    "Agreement": obj(
        ["id", "what", "owner_name", "done", "version"],
        id=INT,
        what=S,
        owner_name=S,
        owner_user_id=INT_NULL,
        due_on={"type": ["string", "null"], "format": "date"},
        done=B,
        goal_id=INT_NULL,
        owner_petal_id={**INT_NULL, "description": "The petal of de bloem that owns it, if any"},
        version=INT,
    ),
    "NewAgreement": obj(
        ["what", "owner"],
        closed=True,
        what={"type": "string", "maxLength": 300},
        owner={
            "type": "string",
            "description": "member:<member id>, guest:<user id> or petal:<petal id>",
        },
        due_on=DATE,
        goal_id=INT,
    ),
    "AgreementChange": obj(["version", "done"], closed=True, version=INT, done=B),
    "Plan": obj(
        ["family_id", "questions", "version", "goals", "agreements"],
        family_id=INT,
        questions=obj([], tomorrow=S, must_change=S, approach=S, help=S, who_else=S),
        version=INT,
        goals={"type": "array", "items": ref("Goal")},
        agreements={"type": "array", "items": ref("Agreement")},
    ),
    "PlanQuestions": obj(
        ["version"],
        closed=True,
        version=INT,
        tomorrow={"type": "string", "maxLength": 5000},
        must_change={"type": "string", "maxLength": 5000},
        approach={"type": "string", "maxLength": 5000},
        help={"type": "string", "maxLength": 5000},
        who_else={"type": "string", "maxLength": 5000},
    ),
    # --- de bloem, veiligheid, evaluatie ---
    "Petal": obj(
        ["id", "name", "relation", "contact", "kind", "member_id", "guest_user_id", "version"],
        id=INT,
        name=S,
        relation=S,
        contact=S,
        kind=PETAL_KIND,
        member_id={**INT_NULL, "description": "The member this petal is, when they take part"},
        guest_user_id={
            **INT_NULL,
            "description": "The guest (user id) this petal stands for: de bloem then shows "
            "them once, on this petal; not together with member_id",
        },
        updated_at=TIME_NULL,
        version=INT,
    ),
    "GuestPetal": obj(
        ["user_id", "name", "until"],
        user_id=INT,
        name=S,
        organisation=S_NULL,
        profession=S_NULL,
        until={**DATE, "description": "The last day of the guest's access (Dutch calendar)"},
    ),
    "Network": obj(
        ["items", "next_cursor", "guests"],
        items={"type": "array", "items": ref("Petal"), "maxItems": MAX_LIMIT},
        next_cursor={"type": ["string", "null"]},
        guests={
            "type": "array",
            "items": ref("GuestPetal"),
            "description": "Guests with the plan part, from their active grants",
        },
    ),
    "NewPetal": obj(
        ["name"],
        closed=True,
        name={"type": "string", "maxLength": 100},
        relation={"type": "string", "maxLength": 100},
        contact={"type": "string", "maxLength": 200},
        kind=PETAL_KIND,
        member_id=INT_NULL,
        guest_user_id=INT_NULL,
    ),
    "PetalChange": obj(
        ["version"],
        closed=True,
        version=INT,
        name={"type": "string", "maxLength": 100},
        relation={"type": "string", "maxLength": 100},
        contact={"type": "string", "maxLength": 200},
        kind=PETAL_KIND,
        member_id=INT_NULL,
        guest_user_id=INT_NULL,
    ),
    "Removal": obj(["version"], closed=True, version=INT),
    "Safety": obj(
        ["family_id", "signals", "actions", "contacts", "version"],
        family_id=INT,
        signals=S,
        actions=S,
        contacts=S,
        updated_at=TIME_NULL,
        updated_by_name=S_NULL,
        version=INT,
    ),
    "SafetyChange": obj(
        ["version"],
        closed=True,
        version=INT,
        signals={"type": "string", "maxLength": 5000},
        actions={"type": "string", "maxLength": 5000},
        contacts={"type": "string", "maxLength": 5000},
    ),
    "Evaluation": obj(
        ["id", "kind", "title", "held_on", "start_time", "version"],
        id=INT,
        kind=EVALUATION_KIND,
        title=S,
        held_on=DATE,
        start_time={**S_NULL, "description": "HH:MM, Europe/Amsterdam; null for all day"},
        participants=S,
        went_well=S,
        changes=S,
        next_steps=S,
        updated_at=TIME_NULL,
        version=INT,
    ),
    "NewEvaluation": obj(
        ["title", "held_on"],
        closed=True,
        **EVALUATION_FIELDS,
    ),
    "EvaluationChange": obj(["version"], closed=True, version=INT, **EVALUATION_FIELDS),
}
