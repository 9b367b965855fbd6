"""Who may do what through the API."""

from rest_framework.permissions import SAFE_METHODS, DjangoModelPermissionsOrAnonReadOnly


class ModelPermissionsOrReadOnly(DjangoModelPermissionsOrAnonReadOnly):
    """Anyone may read; writing takes the model's add, change or delete permission.

    DRF's class answers the same, but builds the view's queryset first, even for a read
    that needs no permission: a tenth of the time of an API case.
    """

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS and self.perms_map.get(request.method) == []:
            return True
        return super().has_permission(request, view)
