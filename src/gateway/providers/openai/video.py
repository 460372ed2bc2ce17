"""OpenAI video generation (`/v1/videos`: sora-2, sora-2-pro): the reference format."""

from gateway.providers.openai_format.video import OpenAIFormatVideo

VIDEO = OpenAIFormatVideo()
