"""The order page of the staff console (placeholder until written)."""


def console_urls():
    return []
