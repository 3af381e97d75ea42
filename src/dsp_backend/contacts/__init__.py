"""Who to contact: the right parent carer forum or team for a place, from the local variant."""
