# Installers with CPack: a Debian package on Linux (scripts/package), an NSIS installer on
# Windows (windeployqt) and a drag-and-drop .dmg on macOS (macdeployqt). Included at the end
# of the top-level CMakeLists.txt; the steps a maintainer follows are in installer/README.md.
#
#   cmake --build BUILD && cpack --config BUILD/CPackConfig.cmake        (generator per platform)
#
# The desktop files, icons and man page are installed by resources/CMakeLists.txt.

set(TD_INSTALLER_DIR ${CMAKE_CURRENT_LIST_DIR})

# Directories created by the install step are 0755 whatever the umask (lintian: non-standard-dir-perm).
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

set(CPACK_PACKAGE_NAME trackerdesk)
set(CPACK_PACKAGE_VENDOR "The TrackerDesk contributors")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Home server, live map and inspector for GT06 / JT/T 808 GPS trackers")
set(CPACK_PACKAGE_HOMEPAGE_URL ${PROJECT_HOMEPAGE_URL})
set(CPACK_PACKAGE_INSTALL_DIRECTORY TrackerDesk)
set(CPACK_PACKAGE_EXECUTABLES trackerdesk TrackerDesk)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/package)
set(CPACK_RESOURCE_FILE_LICENSE ${TD_INSTALLER_DIR}/debian/copyright)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_CHECKSUM SHA256)
set(CPACK_VERBATIM_VARIABLES ON)

if(WIN32)
    # ---------------------------------------------------------------- Windows: NSIS
    set(CPACK_GENERATOR NSIS)
    set(TD_ICO ${CMAKE_BINARY_DIR}/installer/trackerdesk.ico)
    add_custom_command(OUTPUT ${TD_ICO}
        COMMAND td_svgrender ${CMAKE_SOURCE_DIR}/resources/trackerdesk.svg ${TD_ICO} 256
        DEPENDS td_svgrender ${CMAKE_SOURCE_DIR}/resources/trackerdesk.svg VERBATIM)
    configure_file(${TD_INSTALLER_DIR}/windows/trackerdesk.rc.in ${CMAKE_BINARY_DIR}/installer/trackerdesk.rc @ONLY)
    target_sources(trackerdesk PRIVATE ${CMAKE_BINARY_DIR}/installer/trackerdesk.rc ${TD_ICO})
    set(CPACK_NSIS_MUI_ICON ${TD_ICO})
    set(CPACK_NSIS_MUI_UNIICON ${TD_ICO})
    set(CPACK_NSIS_INSTALLED_ICON_NAME "bin\\trackerdesk.exe")
    set(CPACK_NSIS_DISPLAY_NAME TrackerDesk)
    set(CPACK_NSIS_PACKAGE_NAME "TrackerDesk ${PROJECT_VERSION}")
    set(CPACK_NSIS_URL_INFO_ABOUT ${PROJECT_HOMEPAGE_URL})
    set(CPACK_NSIS_MODIFY_PATH ON)                    # offers to put bin\ on PATH (the CLI)
    set(CPACK_NSIS_ENABLE_UNINSTALL_BEFORE_INSTALL ON)
    set(CPACK_NSIS_EXECUTABLES_DIRECTORY bin)
elseif(APPLE)
    # ---------------------------------------------------------------- macOS: .dmg
    set(CPACK_GENERATOR DragNDrop)
    set(CPACK_DMG_VOLUME_NAME TrackerDesk)
    set(CPACK_DMG_FORMAT UDZO)
    # The bundle icon: an .iconset rendered from the SVG, turned into .icns by iconutil.
    set(TD_ICONSET ${CMAKE_BINARY_DIR}/installer/trackerdesk.iconset)
    set(TD_ICNS ${CMAKE_BINARY_DIR}/installer/trackerdesk.icns)
    set(TD_ICONSET_CMDS)
    foreach(size 16 32 128 256 512)
        math(EXPR size2 "${size} * 2")
        list(APPEND TD_ICONSET_CMDS
            COMMAND td_svgrender ${CMAKE_SOURCE_DIR}/resources/trackerdesk.svg ${TD_ICONSET}/icon_${size}x${size}.png ${size}
            COMMAND td_svgrender ${CMAKE_SOURCE_DIR}/resources/trackerdesk.svg ${TD_ICONSET}/icon_${size}x${size}@2x.png ${size2})
    endforeach()
    add_custom_command(OUTPUT ${TD_ICNS} ${TD_ICONSET_CMDS}
        COMMAND iconutil -c icns -o ${TD_ICNS} ${TD_ICONSET}
        DEPENDS td_svgrender ${CMAKE_SOURCE_DIR}/resources/trackerdesk.svg VERBATIM)
    set_source_files_properties(${TD_ICNS} PROPERTIES MACOSX_PACKAGE_LOCATION Resources)
    target_sources(trackerdesk PRIVATE ${TD_ICNS})
    set_target_properties(trackerdesk PROPERTIES
        MACOSX_BUNDLE TRUE
        MACOSX_BUNDLE_BUNDLE_NAME TrackerDesk
        MACOSX_BUNDLE_GUI_IDENTIFIER io.trackerdesk.TrackerDesk
        MACOSX_BUNDLE_ICON_FILE trackerdesk.icns
        MACOSX_BUNDLE_SHORT_VERSION_STRING ${PROJECT_VERSION}
        MACOSX_BUNDLE_BUNDLE_VERSION ${PROJECT_VERSION})
else()
    # ---------------------------------------------------------------- Linux: Debian package
    set(CPACK_GENERATOR DEB)
    set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)           # trackerdesk_VERSION_ARCH.deb
    set(CPACK_DEBIAN_PACKAGE_MAINTAINER "The TrackerDesk contributors <trackerdesk@example.invalid>")
    set(CPACK_DEBIAN_PACKAGE_SECTION utils)
    set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
    set(CPACK_DEBIAN_PACKAGE_HOMEPAGE ${PROJECT_HOMEPAGE_URL})
    # CPack puts CPACK_PACKAGE_DESCRIPTION_SUMMARY on the first line (the synopsis).
    set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Cheap GSM GPS trackers of the GT06 family (Concox, Jimi, Topin cat and pet
trackers, ...) and of the JT/T 808 family report to a server on the internet.
TrackerDesk is that server, on your own PC or Raspberry Pi: it speaks the
trackers' binary protocols, stores every position and raw frame in SQLite,
shows devices live and their history on a map, annotates every frame field by
field like Wireshark, and exports GPX, KML, GeoJSON, CSV and pcapng.
It also runs headless as a (systemd) service, simulates trackers and decodes
frames from the command line.")
    # Libraries are found by dpkg-shlibdeps. What it cannot see is loaded at run time:
    # the QML modules the map imports (QtQuick, QtLocation, QtPositioning, Controls,
    # Layouts and what they import), the osm geoservices plugin, the SQLite driver, the
    # platform plugins and the SVG icon engine.
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
    set(CPACK_DEBIAN_PACKAGE_DEPENDS
        "qml6-module-qtquick, qml6-module-qtlocation, qml6-module-qtpositioning, qml6-module-qtquick-controls, qml6-module-qtquick-layouts, qml6-module-qtquick-shapes, qml6-module-qtquick-templates, qml6-module-qtquick-window, qml6-module-qtqml-workerscript, qt6-location-plugins, libqt6sql6-sqlite, qt6-qpa-plugins, qt6-svg-plugins")
    set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "qt6-wayland, libgl1-mesa-dri, fonts-dejavu-core")
    set(CPACK_DEBIAN_PACKAGE_SUGGESTS "gpsbabel, tshark, sqlite3")
    set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

    # Debian package documentation: copyright and changelog (gzip -n: no timestamp).
    set(TD_DOC share/doc/trackerdesk)
    install(FILES ${TD_INSTALLER_DIR}/debian/copyright DESTINATION ${TD_DOC})
    add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/installer/changelog.gz
        COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/installer
        COMMAND sh -c "gzip -9n -c '${TD_INSTALLER_DIR}/debian/changelog' > '${CMAKE_BINARY_DIR}/installer/changelog.gz'"
        DEPENDS ${TD_INSTALLER_DIR}/debian/changelog VERBATIM)
    add_custom_target(td_changelog ALL DEPENDS ${CMAKE_BINARY_DIR}/installer/changelog.gz)
    install(FILES ${CMAKE_BINARY_DIR}/installer/changelog.gz DESTINATION ${TD_DOC})

    # Headless service: a user unit and a system template unit (trackerdesk@USER).
    install(FILES ${TD_INSTALLER_DIR}/systemd/trackerdesk.service DESTINATION lib/systemd/user)
    install(FILES ${TD_INSTALLER_DIR}/systemd/trackerdesk@.service DESTINATION lib/systemd/system)

    # The changelog and the AppStream release list must name this version.
    file(STRINGS ${TD_INSTALLER_DIR}/debian/changelog TD_CHANGELOG_TOP LIMIT_COUNT 1)
    if(NOT TD_CHANGELOG_TOP MATCHES "^trackerdesk \\(${PROJECT_VERSION}\\)")
        message(WARNING "installer/debian/changelog does not start with version ${PROJECT_VERSION}: "
                        "add an entry before packaging (scripts/package refuses otherwise)")
    endif()
endif()

if(WIN32 OR APPLE)
    # Qt's deployment tool (windeployqt / macdeployqt) copies the Qt libraries, plugins
    # (platforms, sqldrivers, geoservices, ...) and the QML modules the map imports next to
    # the program when CPack runs the install step.
    # The map's QML module is linked in statically; --qmldir points the tool at its imports.
    if(WIN32)
        set(TD_QMLDIR_OPTION --qmldir=${CMAKE_SOURCE_DIR}/qml)
    else()
        set(TD_QMLDIR_OPTION -qmldir=${CMAKE_SOURCE_DIR}/qml)
    endif()
    qt_generate_deploy_qml_app_script(
        TARGET trackerdesk
        OUTPUT_SCRIPT TD_DEPLOY_SCRIPT
        NO_TRANSLATIONS
        DEPLOY_TOOL_OPTIONS ${TD_QMLDIR_OPTION})
    install(SCRIPT ${TD_DEPLOY_SCRIPT})
endif()

include(CPack)
