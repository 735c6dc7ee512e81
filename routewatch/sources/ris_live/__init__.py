"""RIPE RIS Live: the websocket connection, the client and the message parser."""
