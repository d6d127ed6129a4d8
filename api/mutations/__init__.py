"""Mutations: one input, one payload with the changed object and `errors: [UserError!]!`."""
