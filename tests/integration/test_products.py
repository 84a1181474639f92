"""A show's products end to end: listed in the script editor (errors named by row),
carried through YAML export and import, shown in the control room's products panel with
price, stock and link state; paid orders take from the stock and a sold-out product
still on the shelf raises the red stock-out alert with its playbook (SOP 14)."""

from __future__ import annotations

import time

from tests.integration.test_alerts import event
from controlroom.shows.script import Script, Segment
from tests.integration.test_run_of_show import drive, make_show
from tests.integration.test_script_editor import editor, post
from tests.support import create_user, login


def _products_form(**rows: tuple[str, str, str, str, bool]) -> dict[str, str]:
    data = {"rows": str(len(rows) + 1)}
    for index, (sku, name, price, stock, on_shelf) in enumerate(rows.values()):
        data |= {f"sku_{index}": sku, f"name_{index}": name, f"price_{index}": price, f"stock_{index}": stock}
        if on_shelf:
            data[f"on_shelf_{index}"] = "on"
    return data


def test_the_product_list_is_edited_exported_and_imported(server, room, database_url, redis_url):
    client = editor(server, database_url, redis_url, room)
    bad = post(client, f"/rooms/{room}/script/products",
               **_products_form(a=("A1", "保温杯", "五十", "-3", True), b=("A1", "重复", "", "", True)))
    assert bad.status_code == 422
    assert "products 1: price" in bad.text and "products 1: stock" in bad.text and "listed twice" in bad.text

    good = post(client, f"/rooms/{room}/script/products",
                **_products_form(a=("A1", "保温杯<b>", "59.9", "300", True), b=("S1", "秒杀杯", "9.9", "", False)))
    assert good.status_code == 303
    page = client.get(f"/rooms/{room}/script").text
    assert 'value="保温杯&lt;b&gt;"' in page and 'value="59.90"' in page and 'value="300"' in page
    assert '<option value="S1">秒杀杯</option>' in page  # offered for the segments' SKU field

    exported = client.get(f"/rooms/{room}/script/export.yaml").text
    assert "sku: A1" in exported and "price: 59.9" in exported and "stock: 300" in exported
    assert "on_shelf: false" in exported
    # Cleared, then imported back from the file: the list comes back as it was.
    assert post(client, f"/rooms/{room}/script/products", rows="0").status_code == 303
    assert "sku: A1" not in client.get(f"/rooms/{room}/script/export.yaml").text
    imported = client.post(f"/rooms/{room}/script/import", files={"file": ("show.yaml", exported.encode())},
                           headers={"x-csrftoken": client.cookies.get("csrftoken", ""), "hx-request": "true"})
    assert imported.status_code in (204, 303), imported.text
    assert client.get(f"/rooms/{room}/script/export.yaml").text == exported


def test_stock_runs_down_with_orders_and_a_sold_out_listed_product_raises_red(server, room, database_url, redis_url):
    make_show(database_url, redis_url, room, Script(segments=(Segment("讲面膜", "product", 600, sku="B2"),)))
    client = login(server.url, *create_user(database_url, role="controller", rooms=[room]))
    assert post(client, f"/rooms/{room}/script/products",
                **_products_form(a=("B2", "面膜", "59", "3", True))).status_code == 303
    assert drive(client, room, "start").status_code == 204
    server.post_events(room, [event("stream", status="live"), event("viewers", online=800)])
    orders = [event("order", user={"id": f"p{i}"}, order_id=f"o-{room}-{i}", status="paid", sku="B2",
                    amount_cents=5900) for i in range(2)]
    server.post_events(room, orders)
    state = server.wait_for_state(room, lambda s: s["orders_paid"] == 2)
    row = next(p for p in state["products"] if p["sku"] == "B2")
    assert (row["name"], row["price_cents"], row["stock"], row["on_shelf"]) == ("面膜", 5900, 1, True)

    viewer = login(server.url, *create_user(database_url, role="analyst", rooms=[room]))
    panel = viewer.get(f"/rooms/{room}").text
    assert 'data-sku="B2"' in panel and 'data-stock="1"' in panel and "面膜" in panel

    server.post_events(room, [event("order", user={"id": "p9"}, order_id=f"o-{room}-9", status="paid", sku="B2",
                                    amount_cents=5900)])
    deadline = time.monotonic() + 20
    while True:
        alerts = server.state(room)["projections"]["alerts"]["alerts"]
        red = [a for a in alerts if a["rule_key"] == "stock-out" and a["state"] == "firing"]
        if red:
            break
        assert time.monotonic() < deadline, f"no stock-out alert: {alerts}"
        time.sleep(0.2)
    assert red[0]["level"] == "red" and red[0]["playbook"] == "stock-out"
    panel = viewer.get(f"/rooms/{room}").text
    assert 'data-sku="B2" class="on-stage"' in panel  # its segment is running
    assert "stock sold-out" in panel and "已售罄" in panel

    # The shop takes the link off the shelf: the red alert is resolved after its clear time.
    server.post_events(room, [event("product", sku="B2", on_shelf=False)])
    state = server.wait_for_state(room, lambda s: not next(p for p in s["products"] if p["sku"] == "B2")["on_shelf"])
    assert "off-shelf" in viewer.get(f"/rooms/{room}").text
