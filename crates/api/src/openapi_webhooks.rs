//! The top-level `webhooks` section of the OpenAPI document (API-8, OpenAPI
//! 3.1): one entry per published event kind, each describing the POST a
//! subscriber receives, so SDK users get a type for every payload.
//!
//! The envelope is Standard Webhooks': `{"id", "type", "timestamp", "data"}`,
//! signed in the `webhook-*` headers. `data` is the record the API returns
//! for the entity ([`guild_app::webhooks::schema_of`]); a scheduled event
//! wraps it next to its occasion
//! ([`guild_app::webhooks::scheduled_payload`]); where the document has no
//! such schema, `data` is described as an object.

use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{
    ContentBuilder, OpenApi, PathItem, PathsBuilder, Ref, RefOr, Required, ResponseBuilder, Schema,
};

/// The name of the shared envelope schema in `components`.
const ENVELOPE: &str = "WebhookEvent";

/// Adds the `webhooks` section and the envelope schema to `doc`.
pub fn add_webhooks(doc: &mut OpenApi) {
    let known: Vec<String> = doc
        .components
        .as_ref()
        .map(|c| c.schemas.keys().cloned().collect())
        .unwrap_or_default();
    let mut paths = PathsBuilder::new();
    let mut wrappers = Vec::new();
    for kind in guild_app::events::CATALOGUE
        .iter()
        .filter(|k| k.published())
    {
        if let Some(p) = guild_app::webhooks::scheduled_payload(kind.name) {
            wrappers.push((p.schema, occasion(p.field, p.record)));
        }
        let schema = guild_app::webhooks::payload_schema(kind);
        let listed = known.contains(&schema) || wrappers.iter().any(|(w, _)| *w == schema);
        let data = listed.then(|| Ref::from_schema_name(schema).into());
        paths = paths.path(kind.name, event_item(kind.name, kind.description, data));
    }
    paths = paths.path(
        guild_app::webhooks::PING,
        event_item(
            guild_app::webhooks::PING,
            "A test event sent by `POST /api/v1/webhooks/{id}/ping` to that subscription only.",
            None,
        ),
    );
    doc.webhooks = Some(paths.build());
    if let Some(components) = doc.components.as_mut() {
        components
            .schemas
            .insert(ENVELOPE.to_owned(), RefOr::T(envelope(None, None)));
        for (name, schema) in wrappers {
            components.schemas.insert(name.to_owned(), schema);
        }
    }
}

/// `{"<field>": <schema>, "occasion": {...}}`: a scheduled event's data.
fn occasion(field: &str, schema: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "A time-driven event: the record as the API returns it, and the occasion \
             (its `kind`, the day `on` it fell due, and the facts of the reminder).",
        ))
        .property(field, Ref::from_schema_name(schema))
        .required(field)
        .property(
            "occasion",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("kind", ObjectBuilder::new().schema_type(Type::String))
                .required("kind")
                .property(
                    "on",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))),
                )
                .required("on"),
        )
        .required("occasion")
        .into()
}

/// The POST of one event kind.
fn event_item(kind: &str, description: &str, data: Option<RefOr<Schema>>) -> PathItem {
    let body = RequestBodyBuilder::new()
        .description(Some(format!(
            "The `{kind}` event. Verify the `webhook-signature` before trusting it (docs/webhooks.md)."
        )))
        .required(Some(Required::True))
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(envelope(Some(kind), data)))
                .build(),
        )
        .build();
    let mut operation = OperationBuilder::new()
        .operation_id(Some(format!("webhook_{}", kind.replace('.', "_"))))
        .summary(Some(description.to_owned()))
        .tag("webhooks")
        .request_body(Some(body))
        .response(
            "2XX",
            ResponseBuilder::new()
                .description("Received. Any other answer, or none within 10 s, is retried.")
                .build(),
        );
    for (name, text) in [
        (
            "webhook-id",
            "The event id; the same on every retry (deduplicate on it).",
        ),
        (
            "webhook-timestamp",
            "When this attempt was signed, Unix seconds (reject more than 5 minutes off).",
        ),
        (
            "webhook-signature",
            "`v1,<base64 HMAC-SHA256 of \"id.timestamp.body\">`, space-separated when two secrets sign.",
        ),
    ] {
        operation = operation.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Header)
                .required(Required::True)
                .description(Some(text))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
        );
    }
    PathItem::new(HttpMethod::Post, operation)
}

/// The envelope; with a `kind`, its `type` is that kind and `data` the
/// record schema `data` when there is one.
fn envelope(kind: Option<&str>, data: Option<RefOr<Schema>>) -> Schema {
    let string = || ObjectBuilder::new().schema_type(Type::String);
    let mut kind_schema = string().description(Some("The event kind, e.g. `refund.paid`."));
    if let Some(kind) = kind {
        kind_schema = kind_schema.enum_values(Some([kind]));
    }
    let data: RefOr<Schema> = match data {
        Some(schema) => schema,
        None => ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "The record the event is about, as the API returns it.",
            ))
            .into(),
    };
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("One webhook delivery (Standard Webhooks envelope)."))
        .property(
            "id",
            string()
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                .description(Some("The event id, equal to the `webhook-id` header.")),
        )
        .required("id")
        .property("type", kind_schema)
        .required("type")
        .property(
            "timestamp",
            string()
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                .description(Some("When the event happened.")),
        )
        .required("timestamp")
        .property("data", data)
        .required("data")
        .into()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    #[test]
    fn every_published_kind_has_a_webhook_with_its_payload_schema() {
        // rule API-8, API-7: the document's `webhooks` section types every event
        let doc: Value = serde_json::from_str(&crate::app::openapi_json()).unwrap();
        let hooks = doc["webhooks"].as_object().unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let body = |kind: &str| {
            hooks[kind]["post"]["requestBody"]["content"]["application/json"]["schema"].clone()
        };
        for kind in guild_app::events::CATALOGUE
            .iter()
            .filter(|k| k.published())
        {
            let body = body(kind.name);
            assert_eq!(body["properties"]["type"]["enum"][0], kind.name);
            let data = &body["properties"]["data"]["$ref"];
            let name = data
                .as_str()
                .unwrap_or_default()
                .trim_start_matches("#/components/schemas/");
            assert_eq!(
                name,
                guild_app::webhooks::payload_schema(kind),
                "{}",
                kind.name
            );
            assert!(schemas.contains_key(name), "{}: {data}", kind.name);
        }
        assert!(hooks.contains_key(guild_app::webhooks::PING));
        assert!(
            !hooks.keys().any(|k| k.starts_with("auth.")),
            "security events are never sent"
        );
        // a scheduled event's data: the record next to its occasion
        let wrapper = &schemas["CertificateOccasion"];
        assert_eq!(
            wrapper["properties"]["certificate"]["$ref"],
            "#/components/schemas/CertificateView"
        );
        assert_eq!(
            wrapper["required"],
            serde_json::json!(["certificate", "occasion"])
        );
    }
}
