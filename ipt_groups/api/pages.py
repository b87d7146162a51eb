"""Pagination of SQLAlchemy queries for flask-smorest's @paginate."""

from sqlalchemy import Select, func, select

from ipt_groups.extensions import db


def paginate_query(query: Select, pagination) -> list:
    """One page of `query`; sets the item count for the X-Pagination header."""
    pagination.item_count = db.session.scalar(
        select(func.count()).select_from(query.order_by(None).subquery())
    )
    if pagination.first_item >= pagination.item_count:
        return []  # past the end: an empty page, without an OFFSET the database may not hold
    page = query.limit(pagination.page_size).offset(pagination.first_item)
    return list(db.session.scalars(page).unique())
