from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from ..models import Device, db, utcnow
from ..schemas import DeviceListSchema

blp = Blueprint("devices", __name__, url_prefix="/api/v1", description="Connected browsers")


def device_dict(device: Device) -> dict:
    current = getattr(g, "device", None)
    return {
        "id": device.id,
        "name": device.name,
        "created_at": device.created_at,
        "last_seen_at": device.last_seen_at,
        "current": current is not None and current.id == device.id,
    }


def live_devices(user_id: int) -> list[Device]:
    return db.session.scalars(
        select(Device)
        .where(Device.user_id == user_id, Device.revoked_at.is_(None))
        .order_by(Device.id)
    ).all()


def revoke(user_id: int, device_id: int) -> bool:
    device = db.session.get(Device, device_id)
    if device is None or device.user_id != user_id or device.revoked_at is not None:
        return False
    device.revoked_at = utcnow()
    db.session.commit()
    return True


@blp.route("/devices")
class Devices(MethodView):
    @blp.response(200, DeviceListSchema)
    def get(self):
        """The browsers connected to this ledger."""
        return {"devices": [device_dict(d) for d in live_devices(g.user.id)]}


@blp.route("/devices/<int:device_id>")
class DeviceItem(MethodView):
    @blp.response(204)
    def delete(self, device_id):
        """Disconnect a browser: its token stops working at once."""
        if not revoke(g.user.id, device_id):
            abort(404, message=f"No device {device_id}.")
