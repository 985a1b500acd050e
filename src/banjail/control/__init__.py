"""The control socket: one command table (protocol), the asyncio server (server), the blocking client (client),
upstream's pickle framing (legacy), upstream's output texts (format) and the config as a command list (stream)."""
