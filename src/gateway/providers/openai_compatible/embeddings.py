"""Embeddings on a custom server (Ollama, vLLM, LM Studio): the OpenAI format at `{base}/embeddings`."""

from gateway.providers.openai_format.embeddings import OpenAIFormatEmbeddings

EMBEDDINGS = OpenAIFormatEmbeddings()
