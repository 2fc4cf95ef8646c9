"""Import every model module so the metadata is complete (Alembic, tests)."""


def load_all() -> None:
    import portal.access.models
    import portal.auth.models
    import portal.dossier.models
    import portal.family.models
    import portal.family.plan_history_models
    import portal.files.models
    import portal.messaging.models  # noqa: F401
