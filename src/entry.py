# TEMPORARY stand-in for wrangler dry-run testing; to be replaced by the real entry.
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("ok")
