"""The products: one package each, with models, backend operations, handlers and errors."""
