"""The app under benchmark, plus a bare route returning N bytes of HTML: the floor to compare with."""
from flask import Response

from app import create_app

app = create_app()


@app.route("/__floor/<int:size>")
def floor(size: int):
    return Response(("<p>" + "x" * max(size - 7, 0) + "</p>")[:size], mimetype="text/html")
