"""Named SQL over the database port: one module per table family."""
