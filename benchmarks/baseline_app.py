"""The hand-written baseline for bench_api.py: a minimal Flask + SQLAlchemy Core
endpoint inserting the same row into the same table the runtime writes to."""
import os

import sqlalchemy as sa
from flask import Flask, jsonify, request

engine = sa.create_engine(os.environ["DATABASE_URL"], pool_size=10)
table = sa.Table("bench__item", sa.MetaData(), autoload_with=engine)


def create_app():
    app = Flask(__name__)

    @app.post("/items")
    def create():
        body = request.get_json()
        now = sa.func.now()
        with engine.begin() as conn:
            new_id = conn.execute(table.insert().values(
                code=body["code"], qty=int(body["qty"]), note=body.get("note"), _version=1,
                _created_at=now, _updated_at=now).returning(table.c.id)).scalar_one()
        return jsonify(id=new_id), 201
    return app
