"""OpenAI embeddings (`POST /v1/embeddings`): the reference format, passed through."""

from gateway.providers.openai_format.embeddings import OpenAIFormatEmbeddings

EMBEDDINGS = OpenAIFormatEmbeddings()
