"""The catalog: products, variants and collections generated from a seed (`generator`, `vocabulary`),
written to Cassandra (`store`), searched in Elasticsearch (`search`) and drawn as SVG (`images`)."""
