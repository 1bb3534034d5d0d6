"""Stub of mlflow.store.model_registry.dbmodels.models: table names only."""


def _named(class_name, table):
    return type(class_name, (), {"__tablename__": table})


SqlRegisteredModel = _named("SqlRegisteredModel", "registered_models")
SqlModelVersion = _named("SqlModelVersion", "model_versions")
SqlRegisteredModelTag = _named("SqlRegisteredModelTag", "registered_model_tags")
SqlModelVersionTag = _named("SqlModelVersionTag", "model_version_tags")
SqlRegisteredModelAlias = _named("SqlRegisteredModelAlias", "registered_model_aliases")
SqlWebhook = _named("SqlWebhook", "webhooks")
SqlWebhookEvent = _named("SqlWebhookEvent", "webhook_events")
