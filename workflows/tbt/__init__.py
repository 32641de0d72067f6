"""The TBT inquiry point (điểm hỏi đáp TBT, domain.md §4): inquiries from businesses and visitors,
the knowledge base of published answers, WTO TBT notifications with subscriptions and comments.

Importing the package registers its tables, its model operators (``tdcflow/tbt_publish``,
``tdcflow/tbt_remind``) and its document kinds; ``workflows.runtime`` imports it at start-up.
"""

from workflows.tbt import documents, knowledge, models, operators  # noqa: F401  (registrations)
