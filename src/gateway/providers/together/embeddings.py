"""Together AI embeddings (`POST /v1/embeddings`): the OpenAI format (text inputs; Together's own
models fix their dimensions)."""

from gateway.providers.openai_format.embeddings import OpenAIFormatEmbeddings

EMBEDDINGS = OpenAIFormatEmbeddings()
